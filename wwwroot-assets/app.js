// ConnectiveOne's own browser helpers. Loaded as a file: the Content-Security-Policy allows no inline script.
window.connectiveOne = {
  setTheme(mode) {
    document.cookie = `c1-theme=${mode === 'dark' ? 'dark' : 'light'}; path=/; max-age=31536000; samesite=lax`;
  },
  markInteractive() {
    document.body.dataset.interactive = 'true';
  },
  copy(text) {
    return navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.reject(new Error('clipboard unavailable'));
  },
};

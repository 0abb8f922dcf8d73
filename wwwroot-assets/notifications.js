// Desktop notifications for the bell (NotificationBell.razor). The browser's permission is asked only when the user
// presses the button in the bell's panel; a notification is shown only while the tab is hidden (the page shows it
// otherwise). Its tag is the notification's id, so tabs of one user that all announce it show it once.
window.connectiveOneNotifications = {
  permission() {
    return 'Notification' in window ? Notification.permission : 'unsupported';
  },
  async ask() {
    if (!('Notification' in window)) return 'unsupported';
    return await Notification.requestPermission();
  },
  show(id, title, body, url) {
    if (!('Notification' in window) || Notification.permission !== 'granted' || !document.hidden) return false;
    try {
      const shown = new Notification(title, { body, tag: `c1-notification-${id}` });
      shown.onclick = () => {
        window.focus();
        Blazor.navigateTo(url);
        shown.close();
      };
      return true;
    } catch {
      return false; // e.g. a browser that allows notifications only from a service worker: the bell still shows it
    }
  },
};

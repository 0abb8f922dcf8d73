// ConnectiveOne's own browser helpers. Loaded as a file: the Content-Security-Policy allows no inline script.
window.connectiveOne = {
  setTheme(mode) {
    document.cookie = `c1-theme=${mode === 'dark' ? 'dark' : 'light'}; path=/; max-age=31536000; samesite=lax`;
  },
  markInteractive() {
    document.body.dataset.interactive = 'true';
    connectiveOne.unnestMenuActivators();
    connectiveOne.goKeys();
  },
  // Typing in a field (or an editable region): keys are text there, never commands.
  isTyping(t) {
    return !!t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  },
  // "g" then "i" goes to the inbox from any page.
  goKeys() {
    if (connectiveOne.goWatch) return;
    let g = 0;
    connectiveOne.goWatch = (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey || connectiveOne.isTyping(e.target)) return;
      if (e.key === 'g') {
        g = Date.now();
      } else if (e.key === 'i' && Date.now() - g < 1500) {
        g = 0;
        e.preventDefault();
        Blazor.navigateTo('/inbox');
      } else {
        g = 0;
      }
    };
    document.addEventListener('keydown', connectiveOne.goWatch);
  },
  // MudMenu wraps custom activator content in a box-less div with role="button" and tabindex="0": a button around our
  // real button (a nested control for screen readers, axe "nested-interactive"). The menu state moves onto the inner
  // button. Blazor rewrites only attributes whose value changed, so aria-expanded comes back on each toggle: watch it.
  unnestMenuActivators() {
    const fix = () => document.querySelectorAll('.mud-menu-activator[role], .mud-menu-activator[aria-expanded]').forEach((wrapper) => {
      const inner = wrapper.querySelector('button, a[href]');
      if (!inner) return;
      inner.setAttribute('aria-haspopup', 'menu');
      inner.setAttribute('aria-expanded', wrapper.getAttribute('aria-expanded') ?? 'false');
      ['role', 'tabindex', 'aria-haspopup', 'aria-expanded'].forEach((name) => wrapper.removeAttribute(name));
    });
    fix();
    if (connectiveOne.menuWatch) return;
    connectiveOne.menuWatch = new MutationObserver(fix);
    connectiveOne.menuWatch.observe(document.body, {
      subtree: true, childList: true, attributes: true, attributeFilter: ['role', 'aria-expanded'],
    });
  },
  // Inbox keys (the list is InboxKeys.cs): sent to the page, never while typing in a field.
  inboxKeys(dotnet) {
    const keys = ['j', 'k', 'Enter', 'r', 'n', 'a', 'e', '/', '?', 'Escape'];
    const handler = (e) => {
      const t = e.target;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      // Esc steps back one level only: an open select, menu or dialog closes (MudBlazor does it) and nothing else.
      if (e.key === 'Escape' && document.querySelector('.mud-popover-open:not(.mud-tooltip), .mud-dialog-container')) return;
      if (connectiveOne.isTyping(t)) { // Esc only leaves the field (a draft is never navigated away from); a second Esc goes back
        if (e.key === 'Escape') {
          t.blur();
          e.preventDefault();
        }
        return;
      }
      // Enter on a button, link or menu item is that control's own (the account menu opens with it).
      if (e.key === 'Enter' && t && t.closest && t.closest('a, button, [role="menuitem"]')) return;
      if (keys.includes(e.key)) {
        e.preventDefault();
        dotnet.invokeMethodAsync('OnInboxKey', e.key);
      }
    };
    document.addEventListener('keydown', handler);
    return { dispose: () => document.removeEventListener('keydown', handler) };
  },
  submit(selector) {
    const form = document.querySelector(selector);
    if (form) form.requestSubmit();
  },
  // r and n: the reply box, as a reply or as an internal note (its switch is the composer's own).
  compose(note) {
    const toggle = document.querySelector('[data-testid="note-switch"] input, input[data-testid="note-switch"]');
    if (toggle && toggle.checked !== note) toggle.click();
    connectiveOne.focus('#c1-reply-text');
  },
  focus(selector) {
    const el = document.querySelector(selector);
    if (el) el.focus();
  },
  scrollIntoView(selector) {
    const el = document.querySelector(selector);
    if (el) el.scrollIntoView({ block: 'nearest' });
  },
  // Mail HTML lives in sandboxed frames without scripts; the page sizes each frame to its content.
  fitFrames() {
    document.querySelectorAll('iframe.c1-mail-frame').forEach((frame) => {
      const fit = () => {
        try {
          const doc = frame.contentDocument;
          if (doc && doc.documentElement) frame.style.height = (doc.documentElement.scrollHeight + 4) + 'px';
        } catch { /* not same-origin: keep the default height */ }
      };
      if (!frame.dataset.fitted) {
        frame.dataset.fitted = 'true';
        frame.addEventListener('load', () => { fit(); setTimeout(fit, 300); });
      }
      fit();
    });
  },
  // A long ticket shows its last messages; the strip above them loads older ones once the operator scrolls up to it.
  // Being in view when the ticket opens (short page, or opened at the top) does not count: only coming into view does.
  watchOlder(strip, dotnet) {
    let wasOut = false;
    const observer = new IntersectionObserver((entries) => {
      const visible = entries.some((e) => e.isIntersecting);
      if (!visible) {
        wasOut = true;
      } else if (wasOut) {
        wasOut = false;
        dotnet.invokeMethodAsync('OnOlderVisibleAsync');
      }
    });
    observer.observe(strip);
    return { dispose: () => observer.disconnect() };
  },
  // Older messages go in above the one at the top of the thread: keep that one where it is on screen.
  keepScroll(thread) {
    const anchor = thread && thread.firstElementChild;
    if (!anchor) return;
    const top = anchor.getBoundingClientRect().top;
    let scroller = thread.parentElement;
    while (scroller && !(scroller.scrollHeight > scroller.clientHeight && /auto|scroll/.test(getComputedStyle(scroller).overflowY))) {
      scroller = scroller.parentElement;
    }
    const target = scroller || document.scrollingElement;
    const watch = new MutationObserver(() => {
      watch.disconnect();
      target.scrollTop += anchor.getBoundingClientRect().top - top;
    });
    watch.observe(thread, { childList: true });
    setTimeout(() => watch.disconnect(), 30000); // nothing came (no older after all): stop watching
  },
  copy(text) {
    return navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.reject(new Error('clipboard unavailable'));
  },
};

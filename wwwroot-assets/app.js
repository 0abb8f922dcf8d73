// ConnectiveOne's own browser helpers. Loaded as a file: the Content-Security-Policy allows no inline script.
window.connectiveOne = {
  setTheme(mode) {
    document.cookie = `c1-theme=${mode === 'dark' ? 'dark' : 'light'}; path=/; max-age=31536000; samesite=lax`;
  },
  markInteractive() {
    document.body.dataset.interactive = 'true';
    connectiveOne.menuButtons();
    connectiveOne.goKeys();
    connectiveOne.pastedImages();
  },
  // Images pasted or dropped into the reply text go to the composer's hidden file input (ReplyComposer.razor), which
  // attaches them and puts a Markdown reference at the cursor. Clipboard content with text of its own (Word and Excel
  // copy a picture of the cells beside the text) pastes as text, as before.
  pastedImages() {
    if (connectiveOne.pasteWatch) return;
    const inText = (e) => e.target && e.target.id === 'c1-reply-text';
    const hand = (files) => {
      const input = document.getElementById('c1-reply-pasted');
      if (!input || input.disabled || files.length === 0) return false;
      const list = new DataTransfer();
      files.forEach((f) => list.items.add(f));
      // Blazor wires the input up (InputFile's init marks it) after the composer's first render reached the page: a
      // paste right after a ticket opened came before that, and its change event found nobody listening. Wait for it,
      // up to 5 s.
      const give = (tries) => {
        if (input._blazorInputFileNextFileId === undefined && tries > 0) {
          setTimeout(() => give(tries - 1), 50);
          return;
        }
        input.files = list.files;
        input.dispatchEvent(new Event('change', { bubbles: true }));
      };
      give(100);
      return true;
    };
    connectiveOne.pasteWatch = (e) => {
      if (!inText(e) || !e.clipboardData || e.clipboardData.types.includes('text/plain')) return;
      const files = [...e.clipboardData.files];
      if (files.length > 0 && files.every((f) => f.type.startsWith('image/')) && hand(files)) e.preventDefault();
    };
    document.addEventListener('paste', connectiveOne.pasteWatch);
    document.addEventListener('dragover', (e) => {
      if (inText(e) && e.dataTransfer && e.dataTransfer.types.includes('Files')) e.preventDefault();
    });
    document.addEventListener('drop', (e) => {
      if (inText(e) && e.dataTransfer && hand([...e.dataTransfer.files])) e.preventDefault();
    });
  },
  // The server's own change of a text box's text (it knows it already: no input event).
  setText(selector, text) {
    const box = document.querySelector(selector);
    if (box && box.value !== text) box.value = text;
  },
  // Puts text at the cursor of a text box as if typed there (its input event tells Blazor); false when it is not shown.
  insertAtCursor(selector, text) {
    const box = document.querySelector(selector);
    if (!box) return false;
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? start;
    const before = start > 0 && box.value[start - 1] !== '\n' ? '\n' : '';
    box.setRangeText(before + text, start, end, 'end');
    box.dispatchEvent(new Event('input', { bubbles: true }));
    return true;
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
  // Our menu buttons (data-menu-button names the menu's id; UserMenu.razor): keys per WAI-ARIA's menu button pattern,
  // handled here against the page as it is shown, so they never depend on when the server renders. On the button
  // Enter and Space open the menu on its first item (Enter's own click toggles it), ArrowDown the first, ArrowUp the
  // last; in the menu the arrows, Home and End move, Enter and Space choose, Escape and Tab close it onto the button.
  menuButtons() {
    if (connectiveOne.menuKeys) return;
    const items = (menu) => [...menu.querySelectorAll('[role="menuitem"]')].filter((i) => i.getClientRects().length > 0);
    const whenShown = (id, pick) => {
      const until = Date.now() + 3000;
      const step = () => {
        const menu = document.getElementById(id);
        const shown = menu ? items(menu) : [];
        if (shown.length > 0) pick(shown).focus();
        else if (Date.now() < until) requestAnimationFrame(step);
      };
      step(); // at once when the menu is already shown
    };
    connectiveOne.menuKeys = (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey || !e.target || !e.target.closest) return;
      const button = e.target.closest('[data-menu-button]');
      if (button) {
        const id = button.dataset.menuButton;
        const open = button.getAttribute('aria-expanded') === 'true';
        if (e.key === 'Enter' || e.key === ' ') {
          if (!open) whenShown(id, (s) => s[0]); // the button's own click (Enter on keydown, Space on keyup) opens it
        } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
          e.preventDefault();
          if (!open) button.click();
          whenShown(id, (s) => (e.key === 'ArrowDown' ? s[0] : s[s.length - 1]));
        }
        return;
      }
      const item = e.target.closest('[role="menu"] [role="menuitem"]');
      const menu = item && item.closest('[role="menu"]');
      const owner = menu && document.querySelector(`[data-menu-button="${menu.id}"]`);
      if (!owner) return;
      const shown = items(menu);
      const at = shown.indexOf(item);
      const next = { ArrowDown: (at + 1) % shown.length, ArrowUp: (at - 1 + shown.length) % shown.length, Home: 0, End: shown.length - 1 }[e.key];
      if (next !== undefined) {
        shown[next].focus();
      } else if (e.key === 'Enter' || e.key === ' ') {
        item.click();
      } else if (e.key === 'Escape' || e.key === 'Tab') {
        owner.click();
        owner.focus();
      } else {
        return;
      }
      e.preventDefault();
      e.stopPropagation();
    };
    document.addEventListener('keydown', connectiveOne.menuKeys, true);
  },
  // Inbox keys (the list is InboxKeys.cs): sent to the page, never while typing in a field.
  inboxKeys(dotnet) {
    const keys = ['j', 'k', 'Enter', 'r', 'n', 'a', 'e', 's', '/', '?', 'Escape'];
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
  // The setup wizard's Back/Next: the new step from its top. Narrow screens list the six steps above the content,
  // so there the content itself is brought up.
  scrollToStep(stepper) {
    const root = document.querySelector(stepper);
    if (!root) return;
    const narrow = window.matchMedia('(max-width: 599.98px)').matches;
    const target = narrow ? (root.querySelector('.mud-stepper-content') || root) : root;
    target.style.scrollMarginTop = '72px';
    target.scrollIntoView({ block: 'start' });
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
  // The conversation pane opens at its last message and stays there while messages come in or frames grow, unless
  // the operator scrolled up to read (then nothing moves under them).
  threadPane(scroller, thread) {
    let stick = true;
    const toEnd = () => { if (stick) scroller.scrollTop = scroller.scrollHeight; };
    const onScroll = () => { stick = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 48; };
    scroller.addEventListener('scroll', onScroll, { passive: true });
    const resize = new ResizeObserver(toEnd);
    resize.observe(thread);
    toEnd();
    return { dispose: () => { resize.disconnect(); scroller.removeEventListener('scroll', onScroll); } };
  },
  // The list's density ("comfortable" or "compact"), kept per browser for the operator using it.
  density(value) {
    try {
      if (value) localStorage.setItem('c1-density', value);
      return localStorage.getItem('c1-density') || 'comfortable';
    } catch {
      return value || 'comfortable';
    }
  },
  // The operator's time zone as the browser knows it (the app keeps none per user): snooze times are in it.
  timeZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || '';
    } catch {
      return '';
    }
  },
  // Blazor's reconnect UI, in the app's own words: it sends the state to the element with this id.
  reconnectOverlay() {
    const overlay = document.getElementById('components-reconnect-modal');
    if (!overlay || overlay.dataset.watched) return;
    overlay.dataset.watched = 'true';
    const title = overlay.querySelector('[data-reconnect-title]');
    const text = overlay.querySelector('[data-reconnect-text]');
    const retry = overlay.querySelector('[data-reconnect-retry]');
    const words = {
      show: ['Connection lost', 'The connection to the server dropped (a network change, or the server restarting). Trying to reconnect… Your draft stays in this tab.'],
      retrying: ['Connection lost', 'The connection to the server dropped. Still trying to reconnect… Your draft stays in this tab.'],
      failed: ['Could not reconnect', 'The server did not answer. Check the network, then try again.'],
      'resume-failed': ['Could not reconnect', 'The server did not answer. Check the network, then try again.'],
      paused: ['Paused', 'This tab was idle and let go of its connection to save the server\'s memory.'],
      rejected: ['The page has to reload', 'The server restarted and no longer knows this tab. Reloading…'],
    };
    overlay.addEventListener('components-reconnect-state-changed', (e) => {
      const state = e.detail.state;
      overlay.dataset.state = state;
      if (words[state]) [title.textContent, text.textContent] = words[state];
      retry.hidden = !(state === 'failed' || state === 'resume-failed' || state === 'paused');
      if (state === 'rejected') location.reload();
    });
    retry.addEventListener('click', async () => {
      try {
        const ok = overlay.dataset.state === 'paused' ? await Blazor.resumeCircuit() : await Blazor.reconnect();
        if (!ok) location.reload();
      } catch {
        overlay.dataset.state = 'failed';
      }
    });
  },
  copy(text) {
    return navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.reject(new Error('clipboard unavailable'));
  },
};
// The overlay must listen before the first drop, whether or not a page has become interactive yet.
connectiveOne.reconnectOverlay();

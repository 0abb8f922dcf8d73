// The reply box's saved-reply picker (SavedReplyPicker.razor). "#" at the start of a word opens it: the word after it is
// sent to the server as you type. While the picker is shown, the arrows, Enter and Esc in the reply box (or in the
// picker's search box) go to the picker and nowhere else: Enter inserts instead of a new line, Esc closes the picker
// without leaving the reply box (the inbox's own Esc would). Listeners sit on the document, because the reply box is
// re-created when the composer switches between Write and Preview.
window.connectiveOneSavedReplies = {
  // The "#word" just before the caret: its start and the word, or null.
  hashWord(area) {
    const before = area.value.slice(0, area.selectionStart);
    const m = /(^|\s)#([^\s#]*)$/.exec(before);
    return m ? { start: before.length - m[2].length - 1, word: m[2] } : null;
  },
  watch(areaId, dotnet) {
    const self = window.connectiveOneSavedReplies;
    let last = null;
    let dismissed = -1; // the start of a "#word" closed with Esc: not offered again while it is being typed
    const report = (area) => {
      const hash = self.hashWord(area);
      if (!hash) dismissed = -1;
      const query = hash && hash.start !== dismissed ? hash.word : null;
      if (query !== last) {
        last = query;
        dotnet.invokeMethodAsync('OnHashQuery', query);
      }
    };
    // After the composer's own input handler has sent the text: the server then handles the text before the query, so
    // when the picker shows a query, the reply box's text up to it is on the server too.
    const onInput = (e) => {
      if (e.target && e.target.id === areaId) setTimeout(() => report(e.target), 0);
    };
    const onKey = (e) => {
      const t = e.target;
      if (!t || e.ctrlKey || e.metaKey || e.altKey || !['ArrowDown', 'ArrowUp', 'Enter', 'Escape'].includes(e.key)) return;
      const inArea = t.id === areaId;
      if (!inArea && !(t.matches && t.matches('[data-saved-reply-search]'))) return;
      if (e.key === 'Enter' && e.shiftKey) return;
      const list = document.querySelector('[data-testid="saved-reply-options"]');
      if (!list || (inArea && list.dataset.mode !== 'hash')) return;
      if (inArea && e.key === 'Escape') {
        const hash = self.hashWord(t);
        dismissed = hash ? hash.start : -1;
        last = null;
      }
      e.preventDefault();
      e.stopPropagation();
      dotnet.invokeMethodAsync('OnPickerKey', e.key);
    };
    document.addEventListener('input', onInput, true);
    document.addEventListener('keydown', onKey, true);
    return {
      dispose: () => {
        document.removeEventListener('input', onInput, true);
        document.removeEventListener('keydown', onKey, true);
      },
    };
  },
  // Puts the filled text into the reply box: over the "#word" that opened the picker, else at the caret; then tells
  // Blazor, as typing would.
  insert(areaId, text, replaceHash) {
    const area = document.getElementById(areaId);
    if (!area) return;
    let start = area.selectionStart;
    const end = area.selectionEnd;
    const hash = replaceHash ? window.connectiveOneSavedReplies.hashWord(area) : null;
    if (hash) start = hash.start;
    area.focus();
    area.setRangeText(text, start, end, 'end');
    area.dispatchEvent(new Event('input', { bubbles: true }));
  },
};

// The dashboard's JavaScript: the buttons (through the control API), live
// updates, the clock form. Without it the pages still read; with it they
// act and refresh themselves. Vanilla, no build step.
(() => {
  'use strict';
  const main = document.querySelector('main[data-version]');
  const flash = document.getElementById('flash');

  const reveal = (root) => root.querySelectorAll('.js-only').forEach((el) => { el.hidden = false; });
  reveal(document);

  function say(text, ok) {
    flash.textContent = text;
    flash.className = 'flash ' + (ok ? 'ok' : 'bad');
  }

  // The CSRF token the sandbox set in a cookie when it served this page; it
  // goes back in a header on every POST, which no other site can send.
  const csrf = () => (document.cookie.match(/(?:^|;\s*)bjpay_sandbox_csrf=([^;]*)/) || [])[1] || '';

  // post calls the control API and says what it answered.
  async function post(url, body, label) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Sandbox-CSRF': csrf() },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const answer = await res.json().catch(() => ({}));
      if (res.ok) {
        say(label + ': done' + (answer.status ? ' (' + answer.status + ')' : ''), true);
      } else {
        say(label + ': ' + res.status + ' ' + (answer.message || res.statusText), false);
      }
    } catch (err) {
      say(label + ': the sandbox did not answer (' + err.message + ')', false);
    }
    refresh();
  }

  document.addEventListener('click', (ev) => {
    const btn = ev.target.closest('button[data-post]');
    if (btn) post(btn.dataset.post, undefined, btn.textContent.trim());
  });

  document.addEventListener('submit', (ev) => {
    const form = ev.target.closest('form[data-json]');
    if (!form) return;
    ev.preventDefault();
    const body = {};
    for (const [k, v] of new FormData(form)) body[k] = k === 'retry' ? v === 'true' : v;
    post(form.dataset.json, body, form.querySelector('button[type=submit]').textContent.trim());
  });

  // refresh swaps every [data-live] element for its new version, keeping
  // open <details> open.
  let busy = false;
  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const res = await fetch(location.href, { headers: { Accept: 'text/html' } });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      document.querySelectorAll('[data-live][id]').forEach((old) => {
        const fresh = doc.getElementById(old.id);
        if (!fresh) return;
        const open = new Set([...old.querySelectorAll('details[open]')].map(key));
        fresh.querySelectorAll('details').forEach((d) => { if (open.has(key(d))) d.open = true; });
        old.replaceWith(document.importNode(fresh, true));
      });
      reveal(document);
      const version = doc.querySelector('main[data-version]');
      if (version) main.dataset.version = version.dataset.version;
    } finally {
      busy = false;
    }
  }

  // key names a <details> across refreshes: its attempt and its summary.
  function key(d) {
    const article = d.closest('article');
    return (article ? article.dataset.key : '') + '/' + d.querySelector('summary').textContent;
  }

  // Live updates: the sandbox counts changes; poll the count, reload the
  // content when it moves.
  setInterval(async () => {
    if (document.hidden || busy) return;
    try {
      const res = await fetch('/_sandbox/ui/version', { cache: 'no-store' });
      const { version } = await res.json();
      if (String(version) !== main.dataset.version) refresh();
    } catch (err) {
      say('Lost the sandbox: is it still running? (' + err.message + ')', false);
    }
  }, 1000);
})();

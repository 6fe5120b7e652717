// The hosted payment page's JavaScript: the expiry countdown and the copy
// button. The page works without it.
(() => {
  'use strict';
  document.querySelectorAll('.js-only').forEach((el) => { el.hidden = false; });

  const countdown = document.getElementById('countdown');
  if (countdown) {
    let left = Number(countdown.dataset.remainingMs);
    const speed = Number(countdown.dataset.speed); // 0: the sandbox clock is virtual and stands still
    const show = () => {
      const s = Math.max(0, Math.floor(left / 1000));
      const hms = [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60].map((n) => String(n).padStart(2, '0')).join(':');
      countdown.textContent = ' · ' + hms + ' left' + (speed === 0 ? ' (sandbox clock stopped)' : '');
    };
    countdown.hidden = false;
    show();
    if (speed > 0) {
      const started = Date.now(), total = left;
      const timer = setInterval(() => {
        left = total - (Date.now() - started) * speed;
        show();
        if (left <= 0) {
          clearInterval(timer);
          location.reload(); // the page then says the payment expired
        }
      }, 1000);
    }
  }

  document.addEventListener('click', (ev) => {
    const btn = ev.target.closest('button[data-copy]');
    if (!btn) return;
    const text = document.getElementById(btn.dataset.copy).textContent.trim();
    navigator.clipboard.writeText(text).then(() => { btn.textContent = 'Copied'; }, () => { btn.textContent = 'Select the number to copy it'; });
  });
})();

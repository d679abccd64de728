// Runs before the console's modules. If one of them fails to load (a network error, a
// deploy in between) the module graph never runs and the page would say "Loading…" forever:
// say so and offer a reload instead. app.js marks the page started when it runs.
(() => {
  const failures = [];
  window.rosterBoot = { failures };
  function failed() {
    if (document.body.dataset.started || document.getElementById('boot-failed')) return;
    const p = document.createElement('p');
    p.id = 'boot-failed';
    p.setAttribute('role', 'alert');
    p.textContent = 'The console did not load. Check your connection, then reload the page.';
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = 'Reload';
    b.addEventListener('click', () => location.reload());
    document.getElementById('main').replaceChildren(p, b);
  }
  function whenReady(f) {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', f);
    else f();
  }
  // A script or stylesheet that fails to load fires `error` on its element; it does not
  // bubble, so listen in the capture phase.
  window.addEventListener('error', (e) => {
    const t = e.target;
    if (t && (t.tagName === 'SCRIPT' || t.tagName === 'LINK')) {
      failures.push(t.src || t.href);
      whenReady(failed);
    }
  }, true);
  // A module that hangs rather than fails: give it 30 s, as long as the API gateway gives
  // a request.
  whenReady(() => setTimeout(failed, 30000));
})();

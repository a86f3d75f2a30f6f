// The console's one script, served from the assembly (the CSP allows no inline script): keeps the pending-approvals
// badge current by polling this origin. It only ever sets textContent, never markup.
(function () {
  'use strict';
  var badge = document.getElementById('pending-count');
  if (!badge) { return; }
  var source = badge.getAttribute('data-src');
  function refresh() {
    fetch(source, { credentials: 'same-origin', cache: 'no-store', headers: { 'Accept': 'application/json' } })
      .then(function (r) { return r.ok && (r.headers.get('Content-Type') || '').indexOf('application/json') === 0 ? r.json() : null; })
      .then(function (j) { if (j && typeof j.pending === 'number') { badge.textContent = j.pending > 0 ? String(j.pending) : ''; } })
      .catch(function () { /* the next poll tries again */ });
  }
  if (badge.textContent === '0') { badge.textContent = ''; }
  setInterval(refresh, 3000);
}());

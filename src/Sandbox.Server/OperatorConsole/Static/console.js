// The console's one script, served from the assembly (the CSP allows no inline script). It keeps the pending-approvals
// badge and the runs list current by polling this origin, and streams a live run's output. It only ever sets
// textContent and builds elements by name, never markup, so nothing an agent wrote can become a tag.
(function () {
  'use strict';

  function getJson(url) {
    return fetch(url, { credentials: 'same-origin', cache: 'no-store', headers: { 'Accept': 'application/json' } })
      .then(function (r) { return r.ok && (r.headers.get('Content-Type') || '').indexOf('application/json') === 0 ? r.json() : null; });
  }

  var badge = document.getElementById('pending-count');
  if (badge) {
    var source = badge.getAttribute('data-src');
    var refreshBadge = function () {
      getJson(source)
        .then(function (j) { if (j && typeof j.pending === 'number') { badge.textContent = j.pending > 0 ? String(j.pending) : ''; } })
        .catch(function () { /* the next poll tries again */ });
    };
    if (badge.textContent === '0') { badge.textContent = ''; }
    setInterval(refreshBadge, 3000);
  }

  // The runs list: rebuilt from JSON rows whose fields are text to show.
  var runs = document.getElementById('runs');
  if (runs && runs.getAttribute('data-src')) {
    var body = runs.querySelector('tbody');
    var cell = function (row, text) { var td = document.createElement('td'); td.textContent = text; row.appendChild(td); return td; };
    var refreshRuns = function () {
      getJson(runs.getAttribute('data-src')).then(function (rows) {
        if (!Array.isArray(rows)) { return; }
        var fresh = document.createElement('tbody');
        fresh.setAttribute('aria-live', 'polite');
        rows.forEach(function (r) {
          var tr = document.createElement('tr');
          var id = cell(tr, '');
          id.className = 'id';
          var a = document.createElement('a');
          // Only this console's own run pages: the href is built here, the id only as text of a path segment.
          a.href = '/console/runs/' + encodeURIComponent(String(r.id));
          a.textContent = String(r.id);
          id.appendChild(a);
          [r.agent, r.state, r.status, r.profile, r.created, r.purpose].forEach(function (t) { cell(tr, String(t === null || t === undefined ? '' : t)); });
          fresh.appendChild(tr);
        });
        runs.replaceChild(fresh, body);
        body = fresh;
        var empty = document.getElementById('empty');
        if (empty) { empty.hidden = rows.length > 0; }
      }).catch(function () { /* the next poll tries again */ });
    };
    setInterval(refreshRuns, 2000);
  }

  // Copy buttons: the named field's value to the clipboard (the audit head, a new key), selected as well for a manual copy.
  Array.prototype.forEach.call(document.querySelectorAll('button[data-copy]'), function (button) {
    button.addEventListener('click', function () {
      var field = document.getElementById(button.getAttribute('data-copy'));
      var said = document.getElementById('copied');
      if (!field) { return; }
      field.select();
      var done = function (ok) { if (said) { said.textContent = ok ? 'Copied.' : 'Selected: copy it with Ctrl+C.'; } };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(field.value).then(function () { done(true); }, function () { done(false); });
      } else {
        done(false);
      }
    });
  });

  // A live run's output, as its event stream brings it; on the result the page reloads to show it in full.
  var output = document.getElementById('output');
  if (output && output.getAttribute('data-events') && window.EventSource) {
    var stdout = document.getElementById('stdout');
    var stderr = document.getElementById('stderr');
    var state = document.getElementById('state');
    var status = document.getElementById('stream-state');
    var stream = new EventSource(output.getAttribute('data-events'));
    var append = function (pre) {
      return function (e) { try { pre.textContent += JSON.parse(e.data).text; } catch (err) { /* a malformed event is skipped */ } };
    };
    stream.addEventListener('stdout', append(stdout));
    stream.addEventListener('stderr', append(stderr));
    stream.addEventListener('state', function (e) { try { state.textContent = JSON.parse(e.data).text; } catch (err) { /* skipped */ } });
    stream.addEventListener('result', function () {
      stream.close();
      status.textContent = 'The run ended; loading its result.';
      window.location.reload();
    });
    stream.onerror = function () {
      if (stream.readyState === EventSource.CLOSED) { status.textContent = 'The stream closed; reload the page to see the run now.'; }
    };
  }
}());

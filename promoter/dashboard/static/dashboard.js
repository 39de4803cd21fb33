// Progressive enhancement: the page is complete without this. It polls the
// snapshot's version and, when it moved, rewrites the matrix cells in place
// (textContent only: nothing from the server is ever parsed as HTML).
(function () {
  "use strict";
  var body = document.body;
  var prefix = body.getAttribute("data-prefix") || "";
  var version = body.getAttribute("data-version");
  var words = { equal: "= same as", behind: "▼ behind", ahead: "▲ ahead of", differs: "≠ differs from", config: "≠ config differs from", "": "" };

  function update(snapshot) {
    Object.keys(snapshot.cells).forEach(function (key) {
      var cell = document.querySelector('td[data-cell="' + CSS.escape(key) + '"]');
      if (!cell) { return; }
      var data = snapshot.cells[key];
      var shown = cell.querySelector(".version");
      if (shown) {
        var link = shown.querySelector("a");
        (link || shown).textContent = data.version || "–";
      }
      var relation = cell.querySelector(".relation");
      if (relation) {
        relation.textContent = words[data.relation] + (data.relation && data.upstream ? " " + data.upstream : "");
      }
      var since = cell.querySelector(".since");
      if (since) {
        since.textContent = data.age;
        since.title = data.since || "";
      }
      cell.className = "cell " + data.relation;
    });
    var read = document.getElementById("read-at");
    if (read) { read.textContent = snapshot.read_at; }
  }

  function poll() {
    fetch(prefix + "/api/version", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (v) {
        if (String(v.version) === version) { return null; }
        version = String(v.version);
        body.setAttribute("data-version", version);
        return fetch(prefix + "/api/snapshot", { credentials: "same-origin", cache: "no-store" })
          .then(function (r) { return r.json(); })
          .then(update);
      })
      .catch(function () { /* the next poll tries again */ })
      .then(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 2000);
}());

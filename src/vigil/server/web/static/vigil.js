/* vigil review app: the grading grid's keyboard and mouse, reveal, heartbeats and the break prompt.
   No inline scripts (the Content-Security-Policy allows only this file and htmx). */
(function () {
  "use strict";

  var CATEGORIES = "ABCIXPNG";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";

  function post(url, values, target, swap) {
    return htmx.ajax("POST", url, {
      values: values, target: target, swap: swap || "outerHTML", headers: { "X-CSRF-Token": csrf }
    });
  }

  /* ---- wellness: heartbeats while the queue page is visible, and the break prompt ---- */
  function setUpWellness(queue) {
    var every = parseInt(queue.dataset.heartbeat || "30", 10) * 1000;
    var last = Date.now();
    var dismissedUntil = 0;
    function beat() {
      var now = Date.now();
      var seconds = Math.min(Math.round((now - last) / 1000), Math.round(2 * every / 1000));
      last = now;
      if (document.visibilityState !== "visible" || seconds <= 0) { return; }
      post("/wellness/heartbeat", { seconds: seconds }, "#exposure");
    }
    setInterval(beat, every);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") { last = Date.now(); } else { beat(); }
    });
    window.addEventListener("pagehide", function () {
      var seconds = Math.round((Date.now() - last) / 1000);
      if (seconds > 0 && document.visibilityState === "visible" && navigator.sendBeacon) {
        var body = new FormData();
        body.append("seconds", String(Math.min(seconds, 2 * every / 1000)));
        body.append("csrf_token", csrf);
        navigator.sendBeacon("/wellness/heartbeat", body);
      }
    });
    var dialog = document.getElementById("break");
    function checkDue() {
      var counter = document.getElementById("exposure");
      if (!dialog || !counter || counter.dataset.due !== "1" || Date.now() < dismissedUntil || dialog.open) {
        return;
      }
      var text = dialog.querySelector(".why");
      if (text) { text.textContent = counter.dataset.why || ""; }
      dialog.showModal();
    }
    document.body.addEventListener("htmx:afterSettle", checkDue);
    if (dialog) {
      dialog.querySelector(".later").addEventListener("click", function () {
        dismissedUntil = Date.now() + 10 * 60 * 1000;
        dialog.close();
      });
      dialog.addEventListener("htmx:afterRequest", function () { dialog.close(); });
    }
    checkDue();
  }

  /* ---- reveal: one tile at a time, while it is clicked (or space), blurred again on leave ---- */
  function makeRevealer(tiles) {
    function hideAll(except) {
      tiles.forEach(function (tile) { if (tile !== except) { tile.classList.remove("revealed"); } });
    }
    function reveal(tile, on) {
      if (!on) { tile.classList.remove("revealed"); return; }
      var kind = tile.dataset.kind;
      if (tile.classList.contains("revealed") || (kind !== "image" && kind !== "video")) { return; }
      hideAll(tile);
      tile.classList.add("revealed");
      post("/review/reveal", { item: tile.dataset.item }, "#exposure");
    }
    var onHover = document.body.classList.contains("pref-hover");
    tiles.forEach(function (tile) {
      tile.addEventListener("focusout", function () { reveal(tile, false); });
      tile.addEventListener("mouseleave", function () { reveal(tile, false); });
      var pics = tile.querySelector(".pics");
      if (onHover && pics) {
        pics.addEventListener("mouseenter", function () { reveal(tile, true); });
      }
    });
    return { reveal: reveal, hideAll: hideAll };
  }

  function setUpTiles(tiles) {
    var revealer = makeRevealer(tiles);
    tiles.forEach(function (tile) {
      var pics = tile.querySelector(".pics");
      if (pics) {
        pics.addEventListener("click", function () {
          tile.focus();
          revealer.reveal(tile, !tile.classList.contains("revealed"));
        });
      }
      tile.addEventListener("keydown", function (event) {
        if (event.key === " ") {
          event.preventDefault();
          revealer.reveal(tile, !tile.classList.contains("revealed"));
        }
      });
    });
  }

  /* ---- the grid ---- */
  function setUpGrid(queue) {
    var tiles = Array.prototype.slice.call(queue.querySelectorAll(".tile"));
    if (!tiles.length) { return; }
    var form = document.getElementById("grade-form");
    var focused = 0;
    var anchor = 0;
    var selected = new Set();
    var busy = false;

    tiles.forEach(function (tile, i) { tile.dataset.index = String(i); });

    function render() {
      tiles.forEach(function (tile, i) { tile.classList.toggle("selected", selected.has(i)); });
      var count = document.getElementById("selected-count");
      if (count) { count.textContent = String(selected.size || 1); }
    }

    function focusTile(i) {
      focused = Math.max(0, Math.min(tiles.length - 1, i));
      tiles[focused].focus({ preventScroll: false });
    }

    var revealer = makeRevealer(tiles);
    var reveal = revealer.reveal;
    var unrevealAll = revealer.hideAll;

    function selectRange(from, to) {
      selected = new Set();
      var lo = Math.min(from, to), hi = Math.max(from, to);
      for (var i = lo; i <= hi; i++) { selected.add(i); }
      render();
    }

    function targets() {
      var list = selected.size ? Array.from(selected) : [focused];
      return list.sort(function (a, b) { return a - b; });
    }

    function grade(category) {
      if (busy || !form) { return; }
      var chosen = targets();
      var holder = form.querySelector(".chosen");
      holder.replaceChildren();
      chosen.forEach(function (i) {
        var input = document.createElement("input");
        input.type = "hidden"; input.name = "item"; input.value = tiles[i].dataset.item;
        holder.appendChild(input);
      });
      form.querySelector('input[name="category"]').value = category;
      busy = true;
      unrevealAll(null);
      htmx.ajax("POST", form.getAttribute("action"), {
        source: form, target: "#grade-result", swap: "innerHTML", headers: { "X-CSRF-Token": csrf }
      }).then(function () {
        busy = false;
        var notes = form.querySelector('textarea[name="notes"]');
        if (notes) { notes.value = ""; }
        selected = new Set();
        render();
        var last = chosen[chosen.length - 1];
        for (var j = last + 1; j < tiles.length; j++) {
          if (!tiles[j].querySelector("figcaption[data-mine]")) { focusTile(j); return; }
        }
        focusTile(last);
      }, function () { busy = false; });
    }

    function columns() {
      var top = tiles[focused].offsetTop, n = 0;
      for (var i = focused; i < tiles.length && tiles[i].offsetTop === top; i++) { n++; }
      for (var k = focused - 1; k >= 0 && tiles[k].offsetTop === top; k--) { n++; }
      return Math.max(1, n);
    }

    function move(delta, extend) {
      var next = Math.max(0, Math.min(tiles.length - 1, focused + delta));
      if (extend) {
        if (!selected.size) { anchor = focused; }
        selectRange(anchor, next);
      } else {
        anchor = next;
        selected = new Set();
        render();
      }
      focusTile(next);
    }

    tiles.forEach(function (tile, i) {
      var pics = tile.querySelector(".pics");
      tile.addEventListener("focus", function () { focused = i; });
      if (pics) {
        pics.addEventListener("click", function (event) {
          event.stopPropagation();
          focusTile(i);
          reveal(tile, !tile.classList.contains("revealed"));
        });
      }
      tile.addEventListener("click", function (event) {
        if (event.shiftKey) {
          selectRange(anchor, i);
        } else if (event.ctrlKey || event.metaKey) {
          if (selected.has(i)) { selected.delete(i); } else { selected.add(i); }
          anchor = i;
          render();
        } else {
          anchor = i;
          selected = new Set();
          render();
        }
        focusTile(i);
      });
    });

    queue.querySelectorAll(".select-group").forEach(function (button) {
      button.addEventListener("click", function () {
        var group = button.closest(".group");
        selected = new Set();
        group.querySelectorAll(".tile").forEach(function (t) { selected.add(parseInt(t.dataset.index, 10)); });
        var first = Math.min.apply(null, Array.from(selected));
        anchor = first;
        render();
        focusTile(first);
      });
    });

    queue.querySelectorAll(".cats button[data-category]").forEach(function (button) {
      button.addEventListener("click", function () { grade(button.dataset.category); });
    });

    document.addEventListener("keydown", function (event) {
      var tag = (event.target && event.target.tagName) || "";
      if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (event.target && event.target.isContentEditable)) {
        if (event.key === "Escape") { event.target.blur(); focusTile(focused); }
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (document.querySelector("dialog[open]")) { return; }
      var key = event.key;
      if (key === "ArrowRight") { move(1, event.shiftKey); }
      else if (key === "ArrowLeft") { move(-1, event.shiftKey); }
      else if (key === "ArrowDown") { move(columns(), event.shiftKey); }
      else if (key === "ArrowUp") { move(-columns(), event.shiftKey); }
      else if (key === " ") {
        var tile = tiles[focused];
        if (document.activeElement !== tile) { focusTile(focused); }
        reveal(tile, !tile.classList.contains("revealed"));
      }
      else if (key === "Escape") { selected = new Set(); render(); unrevealAll(null); }
      else if (key.length === 1 && CATEGORIES.indexOf(key.toUpperCase()) >= 0) { grade(key.toUpperCase()); }
      else { return; }
      event.preventDefault();
    });

    if (form) {
      form.addEventListener("submit", function (event) { event.preventDefault(); });
    }
    render();
    focusTile(0);
  }

  function start() {
    var queue = document.getElementById("queue");
    if (queue) {
      setUpGrid(queue);
      setUpWellness(queue);
    } else {
      setUpTiles(Array.prototype.slice.call(document.querySelectorAll(".tile")));
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();

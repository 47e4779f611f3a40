/* deckkit preview: show the cards, filter them (deck, tag, level, type, search), night mode,
   type-in comparison. Plain JavaScript, no libraries, works from file://. The filters are kept in
   the URL's fragment (#type=cloze&q=paris) so that a filtered view can be bookmarked. */
(function () {
  "use strict";

  // Each side arrives in an inert <template>, its HTML already rebuilt by deckkit from an
  // allow-list (no script, no handler, only the page's own media), and is moved into its card.
  var templates = document.querySelectorAll("template.dk-html");
  for (var i = 0; i < templates.length; i++) {
    var content = templates[i].content;
    // A player parsed inside a <template> belongs to its inert document, where Chromium may
    // reject its file:// source ("URL safety check") after it has been moved here: load() starts
    // it again in this document and drops what the first attempt had queued.
    var players = content.querySelectorAll("audio, video");
    templates[i].parentNode.replaceChild(content, templates[i]);
    for (var p = 0; p < players.length; p++) players[p].load();
  }

  var cards = Array.prototype.map.call(document.querySelectorAll(".dk-card"), function (el) {
    return {
      el: el,
      deck: el.getAttribute("data-deck"),
      level: el.getAttribute("data-level"),
      type: el.getAttribute("data-type"),
      tags: (el.getAttribute("data-tags") || "").split(" ").filter(Boolean),
      text: (el.textContent + " " + el.getAttribute("data-card")).toLowerCase()
    };
  });
  var controls = {
    deck: document.getElementById("dk-deck"),
    tag: document.getElementById("dk-tag"),
    level: document.getElementById("dk-level"),
    type: document.getElementById("dk-type"),
    q: document.getElementById("dk-search")
  };
  var night = document.getElementById("dk-night");
  var count = document.getElementById("dk-count");
  var empty = document.getElementById("dk-empty");

  function apply() {
    var terms = controls.q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    cards.forEach(function (card) {
      var visible =
        (!controls.deck.value || card.deck === controls.deck.value) &&
        (!controls.tag.value || card.tags.indexOf(controls.tag.value) >= 0) &&
        (!controls.level.value || card.level === controls.level.value) &&
        (!controls.type.value || card.type === controls.type.value) &&
        terms.every(function (term) { return card.text.indexOf(term) >= 0; });
      card.el.hidden = !visible;
      if (visible) shown++;
    });
    count.textContent = shown + " of " + cards.length + " cards";
    empty.hidden = shown > 0;
  }

  function setNight(on) {
    night.checked = on;
    document.body.classList.toggle("nightMode", on);
    document.body.classList.toggle("night_mode", on);
  }

  function readFragment() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    Object.keys(controls).forEach(function (key) {
      var value = params.get(key) || "";
      var control = controls[key];
      if (control.tagName === "SELECT" &&
          !Array.prototype.some.call(control.options, function (o) { return o.value === value; })) {
        value = "";
      }
      control.value = value;
    });
    setNight(params.get("night") === "1");
    apply();
  }

  function writeFragment() {
    var params = new URLSearchParams();
    Object.keys(controls).forEach(function (key) {
      if (controls[key].value) params.set(key, controls[key].value);
    });
    if (night.checked) params.set("night", "1");
    var fragment = params.toString();
    try {
      history.replaceState(null, "", location.href.split("#")[0] + (fragment ? "#" + fragment : ""));
    } catch (e) {
      /* some browsers refuse history changes on file:// pages; the filters still work */
    }
  }

  Object.keys(controls).forEach(function (key) {
    controls[key].addEventListener(key === "q" ? "input" : "change", function () {
      apply();
      writeFragment();
    });
  });
  night.addEventListener("change", function () {
    setNight(night.checked);
    writeFragment();
  });
  window.addEventListener("hashchange", readFragment);

  // Links in cards lead nowhere (deckkit keeps only "#..." ones). Anki's "Hint" link shows the
  // hint after it: its own onclick handler is not kept, so the page does what it did.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".dk-side a") : null;
    if (!link) return;
    event.preventDefault();
    var hint = link.nextElementSibling;
    if (link.classList.contains("hint") && hint && hint.classList.contains("hint")) {
      link.style.display = "none";
      hint.style.display = "block";
    }
  });

  // Type-in cards: what is typed on the front is compared on the back, as Anki's reviewer does.
  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  function spans(pieces) {
    return pieces.map(function (p) {
      return "<span class=" + p[0] + ">" + escapeHtml(p[1]) + "</span>";
    }).join("");
  }
  // Anki's comparison: difflib's matching blocks between what was typed and what was expected;
  // typed text outside them is bad, expected text outside them is missed (a "-" per character
  // stands in for it on the typed line when nothing was typed there).
  function matchingBlocks(a, b) {
    var blocks = [];
    (function recurse(alo, ahi, blo, bhi) {
      var best = [alo, blo, 0], lengths = {};
      for (var i = alo; i < ahi; i++) {
        var next = {};
        for (var j = blo; j < bhi; j++) {
          if (a[i] !== b[j]) continue;
          var k = (lengths[j - 1] || 0) + 1;
          next[j] = k;
          if (k > best[2]) best = [i - k + 1, j - k + 1, k];
        }
        lengths = next;
      }
      if (!best[2]) return;
      recurse(alo, best[0], blo, best[1]);
      blocks.push(best);
      recurse(best[0] + best[2], ahi, best[1] + best[2], bhi);
    })(0, a.length, 0, b.length);
    blocks.push([a.length, b.length, 0]);
    return blocks;
  }
  function compare(expected, typed) {
    if (!typed) return escapeHtml(expected);
    if (typed === expected) return spans([["typeGood", typed]]);
    var a = Array.from(typed), b = Array.from(expected);
    var given = [], wanted = [], i = 0, j = 0;
    matchingBlocks(a, b).forEach(function (block) {
      var bad = a.slice(i, block[0]).join(""), missed = b.slice(j, block[1]).join("");
      if (bad) given.push(["typeBad", bad]);
      else if (missed) given.push(["typeMissed", new Array(b.slice(j, block[1]).length + 1).join("-")]);
      if (missed) wanted.push(["typeMissed", missed]);
      if (block[2]) {
        var same = a.slice(block[0], block[0] + block[2]).join("");
        given.push(["typeGood", same]);
        wanted.push(["typeGood", same]);
      }
      i = block[0] + block[2];
      j = block[1] + block[2];
    });
    return spans(given) + "<br><span id=typearrow>&darr;</span><br>" + spans(wanted);
  }
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("deckkit-typein")) return;
    var card = input.closest(".dk-card");
    var area = card && card.querySelector(".dk-back .deckkit-typeans");
    if (!area) return;
    area.querySelector("code").innerHTML = compare(area.getAttribute("data-expected"), input.value);
  });

  readFragment();
})();

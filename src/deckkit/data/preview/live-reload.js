// deckkit watch: reload the page when the preview is written again. Injected only into pages
// that `deckkit watch` serves (never into the files `deckkit preview` writes); it knows nothing of
// the page but its version (a meta tag the server adds) and the server's event stream.
(() => {
  "use strict";
  const SCROLL_KEY = "deckkit-watch-scroll";
  const served = document.querySelector('meta[name="deckkit-watch-version"]');
  const version = served ? served.content : "";

  // A reload keeps the reader where they were.
  window.addEventListener("load", () => {
    const scroll = sessionStorage.getItem(SCROLL_KEY);
    if (scroll !== null) {
      sessionStorage.removeItem(SCROLL_KEY);
      window.scrollTo(0, Number(scroll));
    }
  });

  const events = new EventSource("/__deckkit/events");
  events.onmessage = (event) => {
    if (event.data !== version) {
      events.close();
      sessionStorage.setItem(SCROLL_KEY, String(window.scrollY));
      window.location.reload();
    }
  };
  // When watch stops, the browser retries on its own; a new watch's first version differs.
})();

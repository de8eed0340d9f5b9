// On a narrow screen the menu scrolls sideways: bring the current section
// into view, so that a page opened from a link shows where it is.
(function () {
  var cur = document.querySelector('.tabs [aria-current="page"]');
  if (!cur) return;
  var nav = cur.parentElement;
  if (nav.scrollWidth <= nav.clientWidth) return;
  nav.scrollLeft += cur.getBoundingClientRect().left - nav.getBoundingClientRect().left - (nav.clientWidth - cur.offsetWidth) / 2;
})();

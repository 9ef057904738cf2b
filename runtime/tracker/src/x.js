// x.js: runs the site's browser pixel bridges (src/pixels/*.js) over the
// tracker's pixel queue, trackstack.p. The collector serves it with the
// configured bridges in place of the "__TS_BRIDGES__" placeholder (an array
// of bridge functions) and t.js loads it only for sites with pixels.
((q, bridges) => {
  const load = (src) => {
    const s = document.createElement("script");
    s.async = true;
    s.src = src;
    document.head.appendChild(s);
  };
  // A bridge that throws must not stop the others or the tracker.
  const run = (e) =>
    bridges.forEach((f) => {
      try {
        f(e, load);
      } catch (err) {}
    });
  q.splice(0).forEach(run);
  q.push = run;
})(trackstack.p, "__TS_BRIDGES__");

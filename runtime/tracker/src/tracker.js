// trackstack tracker: the readable source of {path}/t.js.
//
// hack/build-tracker.sh minifies this file with esbuild (--target=es2017) into
// dist/t.js, and each browser pixel bridge in src/pixels/ into dist/. The
// collector serves t.js with the site's configuration in place of the
// "__TS_CFG__" placeholder, {path}/x.js with the bridges of the pixels the
// site configures, {path}/tcf.js and {path}/h.js, which t.js loads only when
// needed (tracker.go). The wire format is docs/tracker-protocol.md.
//
// Every byte is shipped to every visitor: the code favours short, repeated
// shapes that minify and gzip well, and sticks to ES2017 syntax (no ?., ??,
// object spread or optional catch binding) so esbuild has nothing to lower.
((w, d, nav, loc, on, attempt) => {
  // Injected configuration, a JSON object (keys documented on ScriptConfig):
  //   s site, m consent mode (1 optIn, 2 optOut, absent none),
  //   a autocapture bits (1 clicks, 2 forms, 4 outbound links, 8 SPA),
  //   n cookieless, x version of x.js (set when pixels are configured).
  const C = "__TS_CFG__";
  const G = "granted";
  const D = "denied";
  const me = d.currentScript;
  const site = C.s || me.dataset.site;
  // The browser endpoint sits beside the script: {path}/e.
  const endpoint = new URL("e", me.src);

  // Session state, in sessionStorage unless cookieless (then in memory only):
  // a = attribution of the landing page {u: utm, c: click ids, t: first-seen
  // ms}, i = user id.
  const S = attempt(() => JSON.parse(sessionStorage._ts)) || {};
  const save = () => C.n || attempt(() => (sessionStorage._ts = JSON.stringify(S)));

  // A page loaded from a URL with campaign parameters starts a new
  // attribution; one without keeps the session's, so a conversion pages
  // later still carries the landing gclid.
  const land = { u: {}, c: {}, t: Date.now() };
  for (const [k, v] of new URLSearchParams(loc.search))
    v &&
      /^(utm_(source|medium|campaign|term|content)|gclid|gbraid|wbraid|fbclid|ttclid|msclkid|epik|li_fat_id|twclid)$/.test(k) &&
      ((S.a = land), k[3] == "_" ? (land.u[k.slice(4)] = v) : (land.c[k] = v));
  save();

  let ref = d.referrer;
  let last;

  // ---- Consent -------------------------------------------------------------
  // K is the Google Consent Mode v2 state: optIn starts denied, none and
  // optOut granted; the page's signals (trackstack.consent, Consent Mode
  // commands in dataLayer, IAB TCF) change it. With a consent mode set,
  // events leave the page only while analytics_storage is granted.
  // With a consent mode set and an IAB TCF v2 CMP on the page (__tcfapi),
  // events wait for the CMP's decision: tcf.js, loaded only then, turns it
  // into trackstack.consent calls.
  const v0 = C.m == 1 || (C.m && w.__tcfapi) ? D : G;
  const K = { ad_storage: v0, analytics_storage: v0, ad_user_data: v0, ad_personalization: v0 };

  // ---- Queues and transport --------------------------------------------------
  // out: events waiting to be sent. They stay while consent withholds them.
  // busy: the fetch in flight. One batch at a time is on the wire, the next
  // leaving when the collector has answered: parallel requests may arrive in
  // any order (the landing page view, which carries the attribution, must
  // open the session), and a first visit's requests would each lack the
  // visitor cookie the first answer sets, splitting one visitor in several.
  const out = [];
  let timer;
  let tries = 0;
  let busy;

  // flush sends what consent allows. hidden is 1 from visibilitychange,
  // falsy from timers and calls. clearTimeout returns undefined, so timer
  // reads "none pending" after it.
  const flush = (hidden) => {
    timer = clearTimeout(timer);
    if (C.m && K.analytics_storage != G) return;
    // The consent state at release travels with each event, which goes to
    // the pixels then too.
    out.forEach((e) => e.consent || ((e.consent = Object.assign({}, K)), px && px.push(e)));
    // One fetch at a time; but a hidden page may be leaving, so then what
    // waits goes at once, by beacon, even past a fetch in flight.
    while (out.length && !busy | hidden) {
      // Up to 10 events a batch, fewer when the body would pass 20,000
      // characters (the collector takes 64 KiB of UTF-8); an event too big
      // on its own is dropped, as the collector would refuse it.
      let n = 10;
      let body;
      while ((body = JSON.stringify({ site, events: out.slice(0, n) })).length > 2e4 && n > 1) n >>= 1;
      const batch = out.splice(0, n);
      // The answer: 2xx, 400, 404 and 413 are final and let the next batch
      // go at once (flush(0) is not hidden); network errors (no status),
      // 429 and 5xx put the batch back in front and retry it with backoff
      // (1 s doubling to 64 s), so events still leave in order.
      const done = (r) => {
        busy = 0;
        r.status - 429 && r.status < 500
          ? flush((tries = 0))
          : (out.unshift(...batch), (timer = setTimeout(flush, 1e3 << tries)), (tries += tries < 6));
      };
      // Timed flushes use fetch to learn the status; a hidden page uses
      // sendBeacon, which survives unload. A string body goes as
      // text/plain, a CORS simple request.
      body.length > 2e4 ||
        (hidden && nav.sendBeacon(endpoint, body)) ||
        (busy = fetch(endpoint, { method: "POST", body, keepalive: true, credentials: "include" }).then(done, done));
    }
  };

  // ---- Extensions --------------------------------------------------------------
  // Scripts beside t.js, loaded only on pages that need them (h.js: see
  // hashes below):
  // - tcf.js when the page has an IAB TCF v2 CMP (__tcfapi): it turns the
  //   CMP's decisions into trackstack.consent calls.
  // - x.js (version C.x) when the site configures browser pixels: its bridges
  //   consume px (trackstack.p), the queue of released events (page views
  //   and conversions carry the event_id the platforms deduplicate on) and of
  //   {consent: K} entries when the page calls trackstack.consent.
  // Each is resolved beside t.js and carries t.js's own query, which
  // resolving alone would drop: sites sharing a tracker path are told apart
  // by t.js?site=, and so are these. f ends in "?" or "&", ready for that
  // query. A script element created by a script is async already.
  const load = (f) => {
    const s = d.createElement("script");
    s.src = new URL(f + new URL(me.src).search.slice(1), me.src);
    d.head.append(s);
    return s;
  };
  w.__tcfapi && load("tcf.js?");
  const px = C.x && (load("x.js?v=" + C.x + "&"), []);

  // h.js hashes raw email and phone values into user (SHA-256 hex, one
  // digest per platform normalization that differs); t.js loads it the first
  // time an event carries one, so pages that never identify anyone never
  // pay for it. h.js hands its function to trackstack.h. If h.js cannot
  // load, the promise holds the error event instead, calling it throws, and
  // events go without hashes.
  let hasher;
  const hashes = () => hasher || (hasher = new Promise((f) => (load("h.js?").onerror = api.h = f)));

  // emit builds an event (name defaults to type; x holds type-specific
  // fields) and queues it once each raw {em, ph} value is hashed into user.
  // Raw values never leave the page; one that cannot be hashed (no
  // crypto.subtle outside secure contexts) is left out. Memory stays
  // bounded while consent never comes.
  const emit = async (type, name, x, raw) => {
    const a = S.a || land;
    const fbclid = a.c.fbclid;
    const user = {};
    // _fbp, _fbc and _ga as fbp, fbc, ga; Meta's fbc format from the landing
    // fbclid when the pixel set no cookie.
    const cookies = { fbc: fbclid && "fb.1." + a.t + "." + fbclid };
    d.cookie.replace(/\b_(fbp|fbc|ga)=([^;]*)/g, (m, k, v) => (cookies[k] = v));
    const e = Object.assign(
      {
        // randomUUID needs a secure context; a blob: URL ends in a random
        // UUID everywhere.
        event_id: crypto.randomUUID ? crypto.randomUUID() : URL.createObjectURL(new Blob()).slice(-36),
        type,
        name: name || type,
        ts: Date.now(),
        url: loc.href,
        referrer: ref,
        title: d.title,
        screen: screen.width + "x" + screen.height,
        lang: nav.language,
        utm: a.u,
        click_ids: a.c,
        cookies,
        user_id: S.i,
        user,
        scripted: true,
      },
      x
    );
    // The raw values move from raw (identify's traits, sent as props) into
    // r, keyed e and p, before anything waits.
    const r = {};
    let any;
    for (const k in raw)
      /^(em|ph|email|phone)$/.test(k) && ((r[k[0] == "p" ? "p" : "e"] = raw[k]), delete raw[k], (any = 1));
    try {
      any && (await (await hashes())(r, user));
    } catch (err) {}
    // 10 waiting send at once; a full queue drops the event and leaves the
    // sending to the timer.
    (out.length < 500 && out.push(e)) > 9 ? flush() : timer || (timer = setTimeout(flush, 1e3));
  };

  const set = (o) => {
    for (const k in K) if (o && (o[k] == G || o[k] == D)) K[k] = o[k];
    flush();
  };

  // ---- Consent signals already on the page ---------------------------------------
  // Google Consent Mode: gtag('consent', 'default'|'update', {...}) pushes an
  // Arguments object ['consent', command, state] onto dataLayer. Read those
  // already there, then wrap push to see later ones. Region-scoped defaults
  // are applied as if the region matched.
  const dl = (w.dataLayer = w.dataLayer || []);
  const push = dl.push;
  const cm = (a) => a && a[0] == "consent" && set(a[2]);
  dl.forEach(cm);
  dl.push = (...a) => (a.forEach(cm), push.apply(dl, a));

  // ---- Page views --------------------------------------------------------------
  // One page view per URL (the fragment ignored); on SPA navigation the
  // previous URL becomes the referrer.
  const pageview = () => {
    const u = loc.href.split("#")[0];
    if (u != last) {
      if (last) ref = last;
      last = u;
      emit("pageview");
    }
  };
  if (C.a & 8) {
    for (const m of ["pushState", "replaceState"]) {
      const f = history[m];
      history[m] = (...a) => (f.apply(history, a), pageview());
    }
    on(w, "popstate", pageview);
  }

  // ---- Autocapture -------------------------------------------------------------
  on(d, "click", (ev) => {
    const m = ev.target.closest("[data-ts-event]");
    const a = ev.target.closest("a[href]");
    const props = {};
    if (m && C.a & 1) {
      // data-ts-prop-plan="pro" becomes props {plan: "pro"}.
      for (const at of m.attributes) at.name.indexOf("data-ts-prop-") || (props[at.name.slice(13)] = at.value);
      emit("click", m.dataset.tsEvent, { props });
    } else if (a && C.a & 4 && a.host && a.host != loc.host) {
      emit("click", "outbound", { props: { url: a.href } });
    }
  });

  // Form submissions: the event only. Fields marked data-ts-hash="em" or
  // "ph" are hashed for matching; no other value is read.
  on(d, "submit", (ev) => {
    const f = ev.target;
    const raw = {};
    if (C.a & 2) {
      for (const i of f.querySelectorAll("[data-ts-hash]")) raw[i.dataset.tsHash] = i.value;
      emit("form_submit", 0, { props: { id: f.getAttribute("id") } }, raw);
    }
  });

  // Flush when the page is hidden, which includes being left (the
  // visibilitychange fires before pagehide).
  on(d, "visibilitychange", () => d.hidden && flush(1));

  // ---- JS API ------------------------------------------------------------------
  const api = {
    track: (name, props) => emit("custom", name, { props }),
    conversion: (o) =>
      emit("conversion", o.name || "purchase", { value: o.value, currency: o.currency, order_id: o.order_id }),
    // identify keeps the user id for the session; email and phone traits are
    // hashed, never sent raw.
    identify: (id, props) => {
      S.i = id;
      save();
      props = Object.assign({}, props);
      emit("identify", 0, { props }, props);
    },
    consent: (o) => {
      set(o);
      px && px.push({ consent: K });
    },
    // Calls queued by the snippet's stub (window.trackstack = {q: []}) and
    // any later trackstack.q.push(['track', ...]) run through here.
    q: { push: ([m, ...a]) => attempt(() => api[m](...a)) },
    p: px,
  };

  pageview();
  const stub = w.trackstack;
  w.trackstack = api;
  ((stub && stub.q) || []).forEach(api.q.push);
})(
  window,
  document,
  navigator,
  location,
  (t, e, f) => t.addEventListener(e, f, true),
  (f) => {
    try {
      return f();
    } catch (e) {}
  }
);

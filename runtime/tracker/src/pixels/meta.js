// Meta pixel bridge: page views and purchases as fbq events carrying
// trackstack's event_id as eventID, which Meta uses to deduplicate them
// against the Conversions API copy; other conversions as custom events.
//
// Bridge contract (shared by every file in this folder): the file assigns a
// factory (config) => (entry, load) to x; the collector serves x.js with
// each configured factory called on its pixel's ids (tracker.go), and x.js
// (src/x.js) calls the result for every entry of the tracker's pixel queue:
// a released event (with its consent state in e.consent) or {consent} when
// the page calls trackstack.consent. load(src) adds an async script.
x = (C) => {
  // own: this bridge loaded fbevents.js, so page views are its job too (a
  // pixel the page runs itself already sends its own PageView).
  let own;
  return (e, load) => {
    const w = window;
    const pv = e.type == "pageview";
    if ((pv || e.type == "conversion") && e.consent.ad_storage == "granted") {
      if (!w.fbq) {
        // Meta's base code: a stub that queues calls until fbevents.js takes over.
        const f = (own = w.fbq = w._fbq = function () {
          f.callMethod ? f.callMethod.apply(f, arguments) : f.queue.push(arguments);
        });
        f.push = f;
        f.loaded = true;
        f.version = "2.0";
        f.queue = [];
        load("https://connect.facebook.net/en_US/fbevents.js");
        fbq("init", C.id);
      }
      const id = { eventID: e.event_id };
      const data = { value: e.value, currency: e.currency, order_id: e.order_id };
      if (pv) own && fbq("track", "PageView", {}, id);
      else if (e.name == "purchase") fbq("track", "Purchase", data, id);
      else fbq("trackCustom", e.name, data, id);
    }
  };
};

// Pinterest tag bridge: pintrk events with event_id, which Pinterest uses to
// deduplicate against the Conversions API copy. purchase is sent as checkout,
// lead and signup under their own (standard) names, anything else as custom.
// The bridge contract is described in meta.js. Config: id (tag id).
x = (C) => {
  let own;
  return (e, load) => {
    const w = window;
    const n = e.name;
    const pv = e.type == "pageview";
    if ((pv || e.type == "conversion") && e.consent.ad_storage == "granted") {
      if (!w.pintrk) {
        // Pinterest's base code: a stub that queues calls until core.js loads.
        const p = (own = w.pintrk = function () {
          p.queue.push([].slice.call(arguments));
        });
        p.queue = [];
        p.version = "3.0";
        load("https://s.pinimg.com/ct/core.js");
        pintrk("load", C.id);
        pintrk("page");
      }
      (own || !pv) &&
        pintrk("track", pv ? "pagevisit" : n == "purchase" ? "checkout" : /^(lead|signup)$/.test(n) ? n : "custom", {
          event_id: e.event_id,
          value: e.value,
          currency: e.currency,
          order_id: e.order_id,
        });
    }
  };
};

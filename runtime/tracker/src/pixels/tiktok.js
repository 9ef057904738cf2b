// TikTok pixel bridge: ttq events with event_id, which TikTok uses to
// deduplicate against the Events API copy. purchase is sent as
// CompletePayment, anything else under its own name. The bridge contract is
// described in meta.js. Config: id (pixel code).
x = (C) => {
  let own;
  return (e, load) => {
    const w = window;
    const u = "https://analytics.tiktok.com/i18n/pixel/events.js";
    const pv = e.type == "pageview";
    if ((pv || e.type == "conversion") && e.consent.ad_storage == "granted") {
      if (!w.ttq) {
        // TikTok's base code: a command array with page/track, plus the
        // per-pixel state events.js reads (_i, _t, _o).
        const t = (own = w.ttq = []);
        w.TiktokAnalyticsObject = "ttq";
        ["page", "track"].forEach((m) => (t[m] = (...a) => t.push([m, ...a])));
        t._i = { [C.id]: Object.assign([], { _u: u }) };
        t._t = { [C.id]: +new Date() };
        t._o = { [C.id]: {} };
        load(u + "?sdkid=" + C.id + "&lib=ttq");
      }
      if (pv) own && ttq.page();
      else
        ttq.track(e.name == "purchase" ? "CompletePayment" : e.name, { value: e.value, currency: e.currency }, { event_id: e.event_id });
    }
  };
};

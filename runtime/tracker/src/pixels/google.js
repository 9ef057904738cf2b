// Google tag bridge (GA4 and Google Ads): conversions become gtag events
// carrying transaction_id (GA4 and Google Ads deduplicate on it) and
// event_id; with a Google Ads conversion label also a 'conversion' event.
// The bridge contract is described in meta.js. Config: ga (GA4 measurement
// id), aw (Google Ads tag id), al (conversion label).
x = (C) => {
  // own: this bridge loaded gtag.js, so page views and consent updates are
  // its job too.
  let own;
  return (e, load) => {
    const w = window;
    const pv = e.type == "pageview";
    if (!e.type) {
      // The page called trackstack.consent.
      own && gtag("consent", "update", Object.assign({}, e.consent));
    } else if (pv || e.type == "conversion") {
      if (!w.gtag) {
        // Google's base code. gtag.js reads Arguments objects from dataLayer,
        // never arrays. Consent Mode starts from the tracker's state; page
        // views are sent by this bridge, once per trackstack page view.
        own = w.gtag = function () {
          dataLayer.push(arguments);
        };
        w.dataLayer = w.dataLayer || [];
        gtag("consent", "default", Object.assign({}, e.consent));
        gtag("js", new Date());
        load("https://www.googletagmanager.com/gtag/js?id=" + (C.ga || C.aw));
        [C.ga, C.aw].forEach((id) => id && gtag("config", id, { send_page_view: false }));
      }
      const p = { transaction_id: e.order_id, value: e.value, currency: e.currency, event_id: e.event_id };
      if (pv) own && gtag("event", "page_view", { page_location: e.url, page_referrer: e.referrer, event_id: e.event_id });
      else {
        gtag("event", e.name, p);
        C.al && gtag("event", "conversion", Object.assign({ send_to: C.aw + "/" + C.al }, p));
      }
    }
  };
};

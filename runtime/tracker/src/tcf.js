// tcf.js: follows an IAB TCF v2 consent management platform. t.js loads it
// only on pages that have __tcfapi; it turns each decision into a
// trackstack.consent call, with Google's mapping to Consent Mode:
// - purpose 1 (store and access information on a device) → ad_storage and
//   analytics_storage;
// - purposes 1 and 7 (measure advertising performance) → ad_user_data;
// - purposes 3 and 4 (create and use a personalised advertising profile) →
//   ad_personalization.
// Where GDPR does not apply (gdprApplies false) everything is granted.
// 'cmpuishown' reports the state before the visitor decides and is skipped.
__tcfapi("addEventListener", 2, (t, ok) => {
  if (ok && t && t.eventStatus != "cmpuishown") {
    const p = (t.purpose && t.purpose.consents) || {};
    const v = (b) => (t.gdprApplies === false || b ? "granted" : "denied");
    trackstack.consent({
      ad_storage: v(p[1]),
      analytics_storage: v(p[1]),
      ad_user_data: v(p[1] && p[7]),
      ad_personalization: v(p[3] && p[4]),
    });
  }
});

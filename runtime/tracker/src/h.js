// h.js: hashes the raw email and phone an event carries, for t.js, which
// loads it only when a page first identifies someone or submits a form with
// fields marked data-ts-hash. It hands t.js the function (r, user): r holds
// the raw email (e) and phone (p); user gets the SHA-256 hex digests, one
// per platform normalization that differs (docs/tracker-protocol.md):
//   em        email trimmed and lower-cased (Meta, TikTok, Pinterest);
//   em_google for gmail.com and googlemail.com, also without the dots and
//             the +tag of the local part (Google), only where that differs;
//   ph        phone digits only, a leading 00 taken as + (Meta);
//   ph_e164   "+" and those digits (Google, TikTok), only when the number
//             was written with + or 00: a national number has no country
//             code, and the page cannot tell which country it belongs to.
// A value that cannot be hashed (no crypto.subtle outside secure contexts)
// is left out; the event still goes.
trackstack.h(async (r, user) => {
  const hash = async (s) =>
    [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)))]
      .map((b) => (b + 256).toString(16).slice(1))
      .join("");
  try {
    let v = (r.e || "") + "";
    if ((v = v.trim().toLowerCase())) {
      user.em = await hash(v);
      const g = v.replace(/^(.+)(@g(oogle)?mail\.com)$/, (m, l, h) => l.replace(/\+.*/, "").replace(/\./g, "") + h);
      g != v && (user.em_google = await hash(g));
    }
    if ((v = ((r.p || "") + "").trim().replace(/^00/, "+"))) {
      const p = v.replace(/\D/g, "");
      user.ph = await hash(p);
      v[0] == "+" && (user.ph_e164 = await hash("+" + p));
    }
  } catch (err) {}
});

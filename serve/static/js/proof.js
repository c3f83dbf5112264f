// A rectification photo's proof problems (pipeline.tickets.proof codes from the server) in
// the user's words: the chief reads them when a photo is refused, the reviewer beside the
// before/after photos.
import { fmtTime, t, tf } from "./i18n.js";

export function proofProblemText(p) {
  const v = p.values || {};
  switch (p.code) {
    case "proof_before_dispatch": return tf("proof.before_dispatch", { taken: fmtTime(v.taken_at), dispatched: fmtTime(v.dispatched_at) });
    case "proof_in_future": return tf("proof.in_future", { taken: fmtTime(v.taken_at) });
    case "proof_too_far": return tf("proof.too_far", { d: Math.round(v.distance_m), max: Math.round(v.max_distance_m) });
    case "proof_no_time": return t("proof.no_time");
    case "proof_no_position": return t("proof.no_position");
    default: return t("proof.unknown");
  }
}

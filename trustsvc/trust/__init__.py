"""Where trust comes from: ad-hoc anchors now; trusted lists and the curated agreement later."""

"""What the HTTP service keeps beyond a validation: its clients' keys, the evidence of each validation, the trust
in force (refreshed in the background), and the key that signs its reports."""

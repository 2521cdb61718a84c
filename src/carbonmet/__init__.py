"""carbonmet: carbon metrology platform."""

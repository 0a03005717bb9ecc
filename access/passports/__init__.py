"""GA4GH Passports: visas from trusted brokers checked and counted as grants (in), and our
own grants issued as signed visas with their key set (out)."""

"""The dashboard (`holdall[dashboard]`): read-only pages over the metadata database, served
on loopback unless a token is given. Its pages read through the Client, as the CLI does;
every template, style and script ships in the wheel (no request leaves the machine)."""

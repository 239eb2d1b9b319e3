"""Lambda handlers of constructs-cvpn (deployed as the top-level package ``handlers``)."""

"""The enterprise registry (企业库): enterprises, funding rounds, investors, valuations, operating reports,
lifecycle events, and the data package they are imported from and exported to."""

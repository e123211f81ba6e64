"""Run the whole platform on one machine as processes, on loopback addresses."""

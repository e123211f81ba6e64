"""Load tests: Locust journeys and shapes, and the analysis that gates a run on the SLOs."""

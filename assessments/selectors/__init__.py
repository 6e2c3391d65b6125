"""Read-only selections behind the pages: what a view shows, gathered in a fixed number of
queries from the querysets of assessments.models. Views choose scope and page; these compute."""

"""Knowledge sharing: articles in department spaces, questions across departments, sharing sessions,
comments and ratings, and recognition that rewards reuse by other departments."""

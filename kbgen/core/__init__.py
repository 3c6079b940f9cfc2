"""What every stage shares: plain data, errors, names, Markdown, options, forked processes."""

//! Placeholder: the binding is built by its own issue.

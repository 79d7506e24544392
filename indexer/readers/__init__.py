"""One reader per file format; each turns a file into `TextBlock`s that `render` makes parser-ready text."""

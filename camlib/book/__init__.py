"""What exists only for the book: the command that trains the networks the chapters read. The library
never imports this package; it may import the library and the chapters."""

"""Reading inputs: files, directories, standard input, URLs; lenient JSON and HTML pages."""

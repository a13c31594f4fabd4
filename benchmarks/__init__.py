"""Performance harness: each script compares Onegin with the plain baseline in one run."""

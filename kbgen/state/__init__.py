"""What kbgen remembers between builds: the state database and the staged contributions of one build."""

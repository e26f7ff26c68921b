"""What other programs read: JUnit, GitHub, Gradescope, gradebooks."""

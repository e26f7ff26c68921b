"""What people read: the terminal summary, the HTML report, the class overview."""

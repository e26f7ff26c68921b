"""The second course's hidden reference: same modules and signatures as homework/."""

"""The second course's data as code: input generators and property checks."""

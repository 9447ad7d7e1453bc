"""HTTP views, one module per audience. Each view checks the object against the user before anything else."""

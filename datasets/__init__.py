"""Data for training and testing: synthetic scenes with ground truth, label formats."""

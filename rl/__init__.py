"""zoo.rl"""

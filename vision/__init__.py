"""zoo.vision"""

"""zoo.audio"""

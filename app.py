#!/usr/bin/env python3
"""The example app: ``make synth`` (or ``cdk synth``) synthesizes both example stacks."""

from aws_cdk import App

from stacks.example_app import build_app

build_app(App()).synth()

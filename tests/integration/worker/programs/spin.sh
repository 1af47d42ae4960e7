#!/bin/bash
# Uses CPU until something stops it.
while :; do :; done

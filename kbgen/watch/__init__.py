"""`kbgen watch`: filesystem events turned into builds."""

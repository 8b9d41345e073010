from micromarket.cli import main

main()

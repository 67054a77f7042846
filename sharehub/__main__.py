from sharehub.cli import main

main()

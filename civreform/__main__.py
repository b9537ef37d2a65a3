from civreform.cli import main

main()
